import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MetricHistogram, MetricMeter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import type { HeldReservation } from '../../activities/reservation.activities.ts';
import { stockedOrganization } from '../helpers/fixtures.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait.ts';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

interface Recorded {
  name: string;
  unit: string | undefined;
  value: number;
}

/** A metric meter that keeps every histogram value recorded through it (counters and gauges are not used here). */
function recordingMeter(recorded: Recorded[]): MetricMeter {
  const meter: MetricMeter = {
    createHistogram: (name, valueType = 'int', unit, description) => {
      const histogram: MetricHistogram = {
        name,
        valueType,
        unit,
        description,
        kind: 'histogram',
        record: (value) => void recorded.push({ name, unit, value }),
        withTags: () => histogram,
      };
      return histogram;
    },
    createCounter: () => assert.fail('no counter expected'),
    createGauge: () => assert.fail('no gauge expected'),
    withTags: () => meter,
  };
  return meter;
}

describe('the expiry lag metric of the reservation activities (real PostgreSQL)', () => {
  async function heldFor(ttlSeconds: number) {
    const { organizationId, variantId } = await stockedOrganization(5);
    const recorded: Recorded[] = [];
    const environment = new MockActivityEnvironment(
      { workflowExecution: { workflowId: `reservation-lag-${randomUUID()}`, runId: randomUUID() } },
      { logger: quiet, metricMeter: recordingMeter(recorded) },
    );
    const activities = createActivities({ orm: testStack().orm, systemOrm: testStack().systemOrm });
    const reservationId = randomUUID();
    const held: HeldReservation = await environment.run(() =>
      activities.holdReservationStock({
        organizationId,
        orderId: `lag-${randomUUID()}`,
        reservationId,
        items: [{ variant_id: variantId, quantity: 2 }],
        ttlSeconds,
      }),
    );
    const expiresAt = new Date(present(held.expiresAt, "the hold's expiry"));
    return { activities, environment, recorded, ref: { organizationId, reservationId }, expiresAt };
  }

  it("an expiry's release records how long after expires_at it came, in seconds", async () => {
    const { activities, environment, recorded, ref, expiresAt } = await heldFor(1);
    await waitFor(
      async () => Date.now(),
      (now) => now >= expiresAt.getTime() + 300,
      "the hold's time to live to pass",
    );
    const released: HeldReservation = await environment.run(() => activities.releaseReservation(ref, 'expired', 'ttl'));
    const latest = (Date.now() - expiresAt.getTime()) / 1000;

    assert.equal(released.status, 'expired');
    assert.equal(recorded.length, 1, 'one value recorded');
    const [lag] = recorded;
    assert.equal(lag?.name, 'inventory_hold_expiry_lag_seconds');
    assert.equal(lag?.unit, 's');
    assert.ok(lag && lag.value >= 0.3 && lag.value <= latest, `lag ${lag?.value} s within [0.3, ${latest}]`);
  });

  it('a release someone asked for records no expiry lag', async () => {
    const { activities, environment, recorded, ref } = await heldFor(60);
    const released: HeldReservation = await environment.run(() =>
      activities.releaseReservation(ref, 'released', 'order cancelled'),
    );
    assert.equal(released.status, 'released');
    assert.deepEqual(recorded, []);
  });
});
