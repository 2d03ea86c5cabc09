/* Compiled into every executable of a VFHOOK_SANITIZE build (cmake/sanitize.cmake).
 *
 * A sanitizer report must fail the test that caused it. By default ASan and UBSan exit with
 * status 1, which is also the hook's "refused" status, and the black-box tests run the hook
 * with an empty environment (as libvirt does), so ASAN_OPTIONS/UBSAN_OPTIONS never reach it.
 * These defaults make every report abort the process (SIGABRT), which no test expects.
 * Variables in the environment still override them. */

const char* __asan_default_options(void);
const char* __ubsan_default_options(void);

const char* __asan_default_options(void) {
  return "abort_on_error=1:halt_on_error=1:detect_leaks=1:strict_init_order=1";
}

const char* __ubsan_default_options(void) {
  return "abort_on_error=1:halt_on_error=1:print_stacktrace=1";
}
