/** The circuit breaker alone, on a clock the test moves: counting, opening, the one probe. */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitPermit } from '../src/reliability/circuit-breaker.js';

function breakerAt(start = Date.parse('2026-01-01T00:00:00.000Z'), opts = {}) {
  const clock = { now: start };
  const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1000, now: () => clock.now, ...opts });
  return { breaker, clock };
}

/** A permitted call, failing the test when the breaker refuses it. */
function admitted(breaker: CircuitBreaker): CircuitPermit {
  const permit = breaker.admit();
  if (!permit.ok) throw new Error(`refused, retry in ${permit.retryInMs} ms`);
  return permit;
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) breaker.record(admitted(breaker), false);
}

describe('CircuitBreaker', () => {
  it('defaults to 5 failures and a 10 s cool-down', () => {
    const breaker = new CircuitBreaker();
    expect([breaker.failureThreshold, breaker.coolDownMs]).toEqual([5, 10_000]);
    expect(breaker.state()).toEqual({ state: 'closed', failures: 0, openUntil: null });
  });

  it('opens after the threshold of consecutive failures and refuses calls until the cool-down ends', () => {
    const { breaker, clock } = breakerAt();
    fail(breaker, 2);
    expect(breaker.state()).toEqual({ state: 'closed', failures: 2, openUntil: null });
    fail(breaker, 1);
    expect(breaker.state()).toEqual({ state: 'open', failures: 3, openUntil: '2026-01-01T00:00:01.000Z' });
    clock.now += 400;
    expect(breaker.admit()).toEqual({ ok: false, retryInMs: 600, failures: 3 });
  });

  it('counts consecutive failures only: a success starts again from 0', () => {
    const { breaker } = breakerAt();
    fail(breaker, 2);
    breaker.record(admitted(breaker), true);
    fail(breaker, 2);
    expect(breaker.state()).toMatchObject({ state: 'closed', failures: 2 });
  });

  it('after the cool-down lets ONE probe through; its success closes the circuit', () => {
    const { breaker, clock } = breakerAt();
    fail(breaker, 3);
    clock.now += 1000;
    expect(breaker.state()).toEqual({ state: 'half-open', failures: 3, openUntil: null });
    const probe = admitted(breaker);
    expect(probe.probe).toBe(true);
    expect(breaker.admit()).toEqual({ ok: false, retryInMs: 0, failures: 3 }); // the probe decides
    breaker.record(probe, true);
    expect(breaker.state()).toEqual({ state: 'closed', failures: 0, openUntil: null });
    expect(admitted(breaker).probe).toBe(false);
  });

  it('reopens for a new cool-down when the probe fails', () => {
    const { breaker, clock } = breakerAt();
    fail(breaker, 3);
    clock.now += 1500;
    breaker.record(admitted(breaker), false);
    expect(breaker.state()).toEqual({ state: 'open', failures: 4, openUntil: '2026-01-01T00:00:02.500Z' });
    expect(breaker.admit().ok).toBe(false);
  });

  it('ignores the late outcome of a call let through before the circuit opened', () => {
    const { breaker } = breakerAt();
    const early = admitted(breaker);
    fail(breaker, 3);
    breaker.record(early, true);
    expect(breaker.state().state).toBe('open');
  });
});
