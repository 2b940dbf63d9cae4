#!/usr/bin/env python3
"""Independent reference for the pinned ids in test_prompts_gen.c (run: python3 tests/prompts/ref_gen.py).

Written from the scheme documented in engine/prompts.c, not from its code: splitmix64 on the seed,
then the stream tag (1 random, 2 repeated) and the prompt index folded in with odd multipliers,
then splitmix64 filling a xoshiro256** state; uniform ids below n by rejecting x < 2^64 mod n;
special ids (here: id < 1000) rejected. Also prints splitmix64(0), whose published value is
0xe220a8397b1dcdaf.
"""
M = (1 << 64) - 1
def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
class X:
    def __init__(self, seed, stream, index):
        _, y = splitmix(seed)
        y ^= (stream * 0xD6E8FEB86659FD93) & M
        y = (y + (index & 0xFFFFFFFF) * 0xA0761D6478BD642F) & M
        self.s = []
        for _ in range(4):
            y, v = splitmix(y); self.s.append(v)
    def next(self):
        s = self.s
        out = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return out
    def below(self, n):
        th = (1 << 64) % n
        while True:
            x = self.next()
            if x >= th: return x % n
def draw(r, n, special):
    while True:
        i = r.below(n)
        if not special(i): return i
sp = lambda i: i < 1000
for seed, idx in [(1234, 0), (1234, 7), (0xFFFFFFFFFFFFFFFF, 3)]:
    r = X(seed, 1, idx); print("random", hex(seed), idx, [draw(r, 30522, sp) for _ in range(8)])
for idx in range(4):
    r = X(1234, 2, idx); print("repeated", idx, draw(r, 30522, sp))
# splitmix64 known vector: seed 0 -> 0xe220a8397b1dcdaf
print(hex(splitmix(0)[1]))
