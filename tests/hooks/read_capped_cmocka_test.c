/* CMocka test of the hook's stdin adapter: read(2) is wrapped (-Wl,--wrap=read), and each
 * test scripts what the "pipe" returns: chunks, EINTR, errors, more data than the cap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks/read_capped.h"

/* Each scripted call: a chunk to return (up to the caller's room), or an errno. */
ssize_t __wrap_read(int fd, void* buf, size_t count) {
  check_expected(fd);
  int err = mock_type(int);
  if (err != 0) {
    errno = err;
    return -1;
  }
  const char* chunk = mock_ptr_type(const char*);
  size_t n = strlen(chunk);
  if (n > count) n = count;
  memcpy(buf, chunk, n);
  return (ssize_t)n;
}

static void will_return_chunk(const char* chunk) {
  expect_value(__wrap_read, fd, 0);
  will_return(__wrap_read, 0);
  will_return(__wrap_read, chunk);
}

static void will_fail(int err) {
  expect_value(__wrap_read, fd, 0);
  will_return(__wrap_read, err);
}

static void reads_chunks_until_eof(void** state) {
  (void)state;
  char buf[64];
  int truncated = -1;
  will_return_chunk("<domain>");
  will_return_chunk("</domain>");
  will_return_chunk("");
  ssize_t n = vfhook_read_capped(0, buf, sizeof buf, &truncated);
  assert_int_equal(n, 17);
  assert_memory_equal(buf, "<domain></domain>", 17);
  assert_int_equal(truncated, 0);
}

static void retries_after_eintr(void** state) {
  (void)state;
  char buf[16];
  int truncated = -1;
  will_fail(EINTR);
  will_return_chunk("abc");
  will_fail(EINTR);
  will_return_chunk("");
  assert_int_equal(vfhook_read_capped(0, buf, sizeof buf, &truncated), 3);
  assert_memory_equal(buf, "abc", 3);
}

static void reports_a_read_error(void** state) {
  (void)state;
  char buf[16];
  int truncated = 0;
  will_return_chunk("abc");
  will_fail(EIO);
  errno = 0;
  assert_int_equal(vfhook_read_capped(0, buf, sizeof buf, &truncated), -1);
  assert_int_equal(errno, EIO);
}

static void keeps_the_cap_and_drains_the_rest(void** state) {
  (void)state;
  char buf[4];
  int truncated = 0;
  will_return_chunk("abcdef");     /* 4 kept (the room), */
  will_return_chunk("ghijklmnop"); /* drained into scratch */
  will_return_chunk("");
  assert_int_equal(vfhook_read_capped(0, buf, sizeof buf, &truncated), 4);
  assert_memory_equal(buf, "abcd", 4);
  assert_int_equal(truncated, 1);
}

static void exactly_the_cap_is_not_truncated(void** state) {
  (void)state;
  char buf[4];
  int truncated = -1;
  will_return_chunk("abcd");
  will_return_chunk("");
  assert_int_equal(vfhook_read_capped(0, buf, sizeof buf, &truncated), 4);
  assert_int_equal(truncated, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reads_chunks_until_eof),
      cmocka_unit_test(retries_after_eintr),
      cmocka_unit_test(reports_a_read_error),
      cmocka_unit_test(keeps_the_cap_and_drains_the_rest),
      cmocka_unit_test(exactly_the_cap_is_not_truncated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
