/**
 * Hostile input (issue 8): 10 k generated invalid requests. A failure prints
 * its seed; HOSTILE_SEED=<seed> replays it.
 */
import { hostileSuite } from './suites/hostile';

hostileSuite({
  requests: 10_000,
  seed: Number(process.env.HOSTILE_SEED ?? Date.now() % 2 ** 31),
});
