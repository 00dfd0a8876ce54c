#include <opencv2/core.hpp>
#include "threads.h"

void vigil_nn_set_threads(int n) { cv::setNumThreads(n); }
