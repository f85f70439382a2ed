/* Time CLASS's lensing step (lensing_init) alone: run the CLASS stages up to harmonic_init once, then
 * lensing_init / lensing_free N times (wall clock, best and median). classy has no per-stage timer.
 *
 * Build against a CLASS 3.4.1 tree (libclass.a from `make libclass.a` there):
 *   g++ -O3 -pthread -I$CLASS/include -I$CLASS/external/HyRec2020 -I$CLASS/external/RecfastCLASS \
 *       -I$CLASS/external/heating -I$CLASS/external/Halofit -I$CLASS/external/HMcode \
 *       -x c++ bench/class_lensing_timer.c -x none $CLASS/libclass.a -o /tmp/class_lensing_timer
 * Run: OMP_NUM_THREADS=1 /tmp/class_lensing_timer file.ini [N]   (CLASS's thread pool obeys OMP_NUM_THREADS)
 */
#include "class.h"
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  struct precision pr; struct background ba; struct thermodynamics th; struct perturbations pt;
  struct primordial pm; struct fourier fo; struct transfer tr; struct harmonic hr; struct lensing le;
  struct distortions sd; struct output op; ErrorMsg errmsg;
  int n = argc > 2 ? atoi(argv[2]) : 10;
  double t[1000];
  if (n > 1000) n = 1000;
  char *args[2] = {argv[0], argv[1]};
  if (input_init(2, args, &pr, &ba, &th, &pt, &tr, &pm, &hr, &fo, &le, &sd, &op, errmsg) == _FAILURE_ ||
      background_init(&pr, &ba) == _FAILURE_ || thermodynamics_init(&pr, &ba, &th) == _FAILURE_ ||
      perturbations_init(&pr, &ba, &th, &pt) == _FAILURE_ || primordial_init(&pr, &pt, &pm) == _FAILURE_ ||
      fourier_init(&pr, &ba, &th, &pt, &pm, &fo) == _FAILURE_ ||
      transfer_init(&pr, &ba, &th, &pt, &fo, &tr) == _FAILURE_ ||
      harmonic_init(&pr, &ba, &pt, &pm, &fo, &tr, &hr) == _FAILURE_) {
    printf("CLASS failed before lensing\n");
    return 1;
  }
  for (int i = 0; i < n; i++) {
    double t0 = now();
    if (lensing_init(&pr, &pt, &hr, &fo, &le) == _FAILURE_) { printf("%s\n", le.error_message); return 1; }
    t[i] = now() - t0;
    lensing_free(&le);
  }
  qsort(t, n, sizeof(double), cmp);
  printf("{\"lensing_init_best_s\": %.6f, \"lensing_init_median_s\": %.6f, \"runs\": %d, \"l_unlensed_max\": %d}\n",
         t[0], t[n / 2], n, hr.l_max_tot);
  return 0;
}
