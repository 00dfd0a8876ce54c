#ifndef VIGIL_ANALYZE_THREADS_H
#define VIGIL_ANALYZE_THREADS_H
#ifdef __cplusplus
extern "C" {
#endif
// vg_cv_serial makes OpenCV run every function on the calling thread.
void vg_cv_serial(void);
// vg_cv_threads returns the threads OpenCV splits a function over.
int vg_cv_threads(void);
#ifdef __cplusplus
}
#endif
#endif
