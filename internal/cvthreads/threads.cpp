#include <opencv2/core/utility.hpp>
#include "threads.h"

void vg_cv_set_threads(int n) { cv::setNumThreads(n); }

int vg_cv_threads(void) { return cv::getNumThreads(); }
