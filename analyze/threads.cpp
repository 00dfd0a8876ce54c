#include <opencv2/core/utility.hpp>
#include "threads.h"

void vg_cv_serial(void) { cv::setNumThreads(1); }

int vg_cv_threads(void) { return cv::getNumThreads(); }
