/* fault.h: fault injection for the test suite, driven by the SINKSCOPE_FAULT environment variable:
 *   crash:T     the rank that runs task T dies (SIGKILL to itself) before computing it
 *   fail:T      task T is recorded as failed ("injected failure")
 *   slow:MS     every task sleeps MS milliseconds first (to interrupt runs at a chosen moment)
 *   cost:T:MS   task T sleeps MS milliseconds (uneven task costs for scheduler measurements)
 * Several entries may be given, separated by commas. Unset: no effect. */
#ifndef SS_FAULT_H
#define SS_FAULT_H

void ss_fault_maybe(int task); /* crash / slow / cost */
int ss_fault_fail(int task);   /* 1 if task must fail */

#endif
