#ifndef VIGIL_CVTHREADS_H
#define VIGIL_CVTHREADS_H
#ifdef __cplusplus
extern "C" {
#endif
// vg_cv_set_threads sets the threads OpenCV splits a function over, for
// the whole process (cv::setNumThreads).
void vg_cv_set_threads(int n);
// vg_cv_threads returns the threads OpenCV splits a function over.
int vg_cv_threads(void);
#ifdef __cplusplus
}
#endif
#endif
