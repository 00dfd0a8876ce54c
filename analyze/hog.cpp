#include <algorithm>
#include <opencv2/objdetect.hpp>
#include "hog.h"

int vg_hog_people(float *out, int n) {
	std::vector<float> d = cv::HOGDescriptor::getDefaultPeopleDetector();
	std::copy_n(d.begin(), std::min<size_t>(n, d.size()), out);
	return (int)d.size();
}
