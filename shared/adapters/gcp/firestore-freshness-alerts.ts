/**
 * Freshness alerts in Firestore (collection `freshness_alerts`, document id =
 * the encoded alert id): open is create-if-absent in a transaction, so two
 * reconciler passes opening the same breach at once store it once and both
 * read back the stored alert. Few documents (one per open breach), so the
 * list reads the collection and orders it here: no index to deploy.
 */
import type { CollectionReference, Firestore } from '@google-cloud/firestore';
import type { FreshnessAlert, OpenFreshnessAlertResult } from '../../domain/freshness-alert.js';
import { documentId } from './firestore-run-mapping.js';
import { storeCall } from './firestore-errors.js';

export class FirestoreFreshnessAlerts {
  constructor(
    private readonly client: () => Firestore,
    private readonly collection: () => CollectionReference,
  ) {}

  list(): Promise<readonly FreshnessAlert[]> {
    return storeCall(async () => {
      const snapshot = await this.collection().get();
      return snapshot.docs
        .map((doc) => doc.data() as FreshnessAlert)
        .sort(
          (a, b) =>
            a.breachedSince.localeCompare(b.breachedSince) || a.alertId.localeCompare(b.alertId),
        );
    });
  }

  open(alert: FreshnessAlert): Promise<OpenFreshnessAlertResult> {
    const ref = this.collection().doc(documentId(alert.alertId));
    return storeCall(() =>
      this.client().runTransaction(async (tx) => {
        const stored = (await tx.get(ref)).data() as FreshnessAlert | undefined;
        if (stored !== undefined) return { created: false, alert: stored };
        tx.create(ref, { ...alert });
        return { created: true, alert };
      }),
    );
  }

  /** Keeps the first announcement time: a repeated publish does not move it. */
  markAnnounced(alertId: string, at: Date): Promise<void> {
    const ref = this.collection().doc(documentId(alertId));
    return storeCall(() =>
      this.client().runTransaction(async (tx) => {
        const stored = (await tx.get(ref)).data() as FreshnessAlert | undefined;
        if (stored === undefined || stored.announcedAt !== undefined) return;
        tx.update(ref, { announcedAt: at.toISOString() });
      }),
    );
  }

  close(alertId: string): Promise<void> {
    return storeCall(async () => {
      await this.collection().doc(documentId(alertId)).delete();
    });
  }
}
