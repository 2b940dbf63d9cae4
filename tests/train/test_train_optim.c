/* test_train_optim.c: the trainer's optimizer (engine/train/optim.h): the schedule's shape, the clipping, and
 * AdamW's first two updates worked out by hand (issue 8). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"
#include "train/optim.h"

static void test_schedule(void)
{
    ss_tr_optim_cfg c = {.lr = 1e-3, .lr_min = 1e-4, .warmup = 10, .steps = 110};
    CHECK_NEAR(ss_tr_lr_at(&c, 0), 1e-4, 1e-15);   /* (0 + 1)/10 of the peak */
    CHECK_NEAR(ss_tr_lr_at(&c, 4), 5e-4, 1e-15);
    CHECK_NEAR(ss_tr_lr_at(&c, 9), 1e-3, 1e-15);   /* end of warm-up: the peak */
    CHECK_NEAR(ss_tr_lr_at(&c, 10), 1e-3, 1e-15);  /* cosine starts at the peak */
    CHECK_NEAR(ss_tr_lr_at(&c, 60), 5.5e-4, 1e-12); /* half way: the mean of peak and floor */
    CHECK_NEAR(ss_tr_lr_at(&c, 110), 1e-4, 1e-15); /* the floor */
    for (int s = 10; s < 110; s++) CHECK(ss_tr_lr_at(&c, s + 1) <= ss_tr_lr_at(&c, s));
}

static void test_clip(void)
{
    float g[3] = {3.0f, 0.0f, -4.0f};
    CHECK_NEAR(ss_tr_clip_grads(g, 3, 10.0), 5.0, 1e-12); /* below the threshold: untouched */
    CHECK(g[0] == 3.0f && g[2] == -4.0f);
    CHECK_NEAR(ss_tr_clip_grads(g, 3, 1.0), 5.0, 1e-12);
    CHECK_NEAR(g[0], 0.6, 1e-7);
    CHECK_NEAR(g[2], -0.8, 1e-7);
}

/* One weight tensor (decayed) and one bias (not): two updates against the formulas worked by hand. */
static void test_adamw(void)
{
    ss_tr_tensor t[2] = {{.name = "w", .off = 0, .n = 2, .n_dims = 2, .shape = {1, 2}, .decay = 1},
                         {.name = "b", .off = 2, .n = 1, .n_dims = 1, .shape = {1, 0}, .decay = 0}};
    ss_tr_layout L = {.tensors = t, .n_tensors = 2, .n_params = 3};
    ss_tr_optim_cfg c = {.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.1};
    float p[3] = {1.0f, -2.0f, 0.5f}, m[3] = {0}, v[3] = {0};
    float g1[3] = {0.5f, -0.25f, 2.0f};
    ss_tr_adamw_step(&L, &c, p, g1, m, v, 1, 0.01);
    /* update 1: m̂ = g, v̂ = g², so the step is lr·sign(g) (up to ε); decay multiplies w by 1 − 0.01·0.1 */
    CHECK_NEAR(p[0], 1.0 * 0.999 - 0.01, 1e-6);
    CHECK_NEAR(p[1], -2.0 * 0.999 + 0.01, 1e-6);
    CHECK_NEAR(p[2], 0.5 - 0.01, 1e-6);
    /* update 2 with g = 0 on the bias: m = 0.9·0.1·2 = 0.18, v = 0.99·0.01·4 = 0.0396;
     * m̂ = 0.18/0.19, v̂ = 0.0396/0.0199: step = 0.01·0.947368/1.410674 */
    float g2[3] = {0.5f, -0.25f, 0.0f};
    float before = p[2];
    ss_tr_adamw_step(&L, &c, p, g2, m, v, 2, 0.01);
    CHECK_NEAR(p[2], before - 0.01 * (0.18 / 0.19) / sqrt(0.0396 / 0.0199), 1e-6);
}

int main(void)
{
    test_schedule();
    test_clip();
    test_adamw();
    TEST_END();
}
