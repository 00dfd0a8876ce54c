#ifndef VIGIL_ANALYZE_HOG_H
#define VIGIL_ANALYZE_HOG_H
#ifdef __cplusplus
extern "C" {
#endif
// vg_hog_people copies the coefficients of OpenCV's default people
// detector (cv::HOGDescriptor::getDefaultPeopleDetector) into out, at most
// n of them, and returns how many there are.
int vg_hog_people(float *out, int n);
#ifdef __cplusplus
}
#endif
#endif
