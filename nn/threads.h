#ifdef __cplusplus
extern "C" {
#endif
void vigil_nn_set_threads(int n);
#ifdef __cplusplus
}
#endif
