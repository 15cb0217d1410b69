/**
 * The Services half of the Cloud Run fake: stored services, their revisions,
 * and how a create or update reconciles (the traffic rules are in
 * cloud-run-fake-traffic.ts). Each rule names its source; "proto"
 * means node_modules/@google-cloud/run/build/protos/google/cloud/run/v2/
 * service.proto (field comments), "gcp-facts" /work/shared/reference/gcp-facts.md.
 */
import * as grpc from '@grpc/grpc-js';
import { serviceError } from './grpc-fake-server.js';
import {
  canonicalJson,
  notFound,
  type CreateServiceRequestWire,
  type OperationOutcome,
  type Pack,
  type RevisionHost,
  type RevisionTemplateWire,
  type ServiceWire,
  type TrafficTargetWire,
  type UpdateServiceRequestWire,
} from './cloud-run-fake-wire.js';
import { reconcileFailure, shortRevisionName, validateTraffic } from './cloud-run-fake-traffic.js';
import {
  checkInvokerChange,
  clearWritableFields,
  validateRevisionName,
  writableFields,
} from './cloud-run-fake-service-rules.js';

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';

/** The URL hash Cloud Run puts in every generated URL of a service (fixed here). */
export const FAKE_URL_SUFFIX = 'abc123-uc.a.run.app';

/** A write the fake accepted: the service it changed and how its reconciliation ends. */
export interface AcceptedWrite {
  readonly service: string;
  readonly finish: () => OperationOutcome | undefined;
}

export class FakeServices {
  private readonly services = new Map<string, ServiceWire>();
  /** Every revision ever created (short name) → its template, canonical. */
  private readonly revisions = new Map<string, string>();
  /** Every revision ever created (short name) → its template as sent. */
  private readonly templates = new Map<string, RevisionTemplateWire>();
  /** Revisions (short names) that never become ready → why. */
  private readonly failing = new Map<string, string>();
  /** Permissions the caller lacks (cloud-run-fake-service-rules.ts says which write needs which). */
  readonly deniedPermissions = new Set<string>();

  constructor(
    private readonly parent: string,
    private readonly next: () => number,
    private readonly pack: Pack,
    /** Runs revisions and serves URLs (the rehearsal's simulator); none: all ready at once. */
    private readonly host?: RevisionHost,
  ) {}

  serviceName(id: string): string {
    return `${this.parent}/services/${id}`;
  }

  get(name: string): ServiceWire {
    const service = this.services.get(name);
    if (!service) throw notFound(name);
    return service;
  }

  /** The stored service (a copy), or undefined. */
  copy(id: string): ServiceWire | undefined {
    const service = this.services.get(this.serviceName(id));
    return service && structuredClone(service);
  }

  /** The template revision `revision` (short name) was created with, or undefined. */
  revisionTemplate(revision: string): RevisionTemplateWire | undefined {
    const template = this.templates.get(revision);
    return template && structuredClone(template);
  }

  /** Makes revision `revision` (short name) fail to start, Cloud Run giving `reason`. */
  failRevision(revision: string, reason: string): void {
    this.failing.set(revision, reason);
  }

  /** Another writer changed the service: its generation and etag move on. */
  touch(id: string, annotations: Record<string, string>): void {
    const service = this.get(this.serviceName(id));
    service.annotations = { ...service.annotations, ...annotations };
    service.generation = String(Number(service.generation) + 1);
    service.observedGeneration = service.generation;
    service.etag = this.etag();
  }

  create(request: CreateServiceRequestWire): AcceptedWrite {
    const parent = request.parent ?? '';
    const id = request.serviceId ?? '';
    if (parent !== this.parent) {
      throw serviceError(grpc.status.INVALID_ARGUMENT, `bad parent ${parent}`);
    }
    // proto, CreateServiceRequest.service_id: "must begin with letter, and
    // cannot end with hyphen; must contain fewer than 50 characters".
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(id) || id.length >= 50) {
      throw serviceError(grpc.status.INVALID_ARGUMENT, `invalid service_id ${id}`);
    }
    const name = this.serviceName(id);
    if (this.services.has(name)) {
      throw serviceError(grpc.status.ALREADY_EXISTS, `Resource '${id}' already exists.`);
    }
    // proto, `reconciling`: until a reconciliation succeeds, traffic_statuses,
    // observed_generation and latest_ready_revision are "empty for newly
    // created Services" (latestReadyRevision is simply absent here).
    checkInvokerChange(false, !!request.service?.invokerIamDisabled, name, this.deniedPermissions);
    const service: ServiceWire = {
      name,
      uid: `uid-${this.next()}`,
      generation: '0',
      observedGeneration: '0',
      trafficStatuses: [],
      uri: '',
    };
    this.apply(service, request.service ?? {}, id);
    this.services.set(name, service);
    return this.reconcileLater(service, id);
  }

  update(request: UpdateServiceRequestWire): AcceptedWrite {
    const desired = request.service ?? {};
    const service = this.get(desired.name ?? '');
    // proto, `etag`: "May be used to detect modification conflict during
    // updates". The code on a mismatch is undocumented (gcp-facts §D); ABORTED
    // is the fake's choice.
    if (desired.etag && desired.etag !== service.etag) {
      throw serviceError(
        grpc.status.ABORTED,
        `etag mismatch: the resource was modified (given ${desired.etag}, current ${service.etag})`,
      );
    }
    const id = shortRevisionName(service.name ?? '');
    checkInvokerChange(
      !!service.invokerIamDisabled,
      !!desired.invokerIamDisabled,
      service.name ?? '',
      this.deniedPermissions,
    );
    this.apply(service, desired, id);
    return this.reconcileLater(service, id);
  }

  /** Validates and stores the writable fields; creates the template's revision if it is new. */
  private apply(service: ServiceWire, desired: ServiceWire, id: string): void {
    const template = desired.template;
    // proto, Service.template is REQUIRED; RevisionTemplate.containers holds
    // "the single container that defines the unit of execution".
    if (!template?.containers?.length) {
      throw serviceError(
        grpc.status.INVALID_ARGUMENT,
        'template.containers: at least one required',
      );
    }
    // Named revisions are immutable: the same name with another template is
    // refused with 409 "Revision named '…' with different configuration
    // already exists" (gcp-facts §D: googleapis/google-cloud-python #14259,
    // pipe-cd PR #2480); the same template again creates nothing.
    if (template.revision) validateRevisionName(template.revision, id);
    const canonical = canonicalJson({ ...template, revision: undefined });
    const revision = template.revision || `${id}-${String(this.next()).padStart(5, '0')}-gen`;
    const existing = this.revisions.get(revision);
    if (existing !== undefined && existing !== canonical) {
      throw serviceError(
        grpc.status.ALREADY_EXISTS,
        `Revision named '${revision}' with different configuration already exists.`,
      );
    }
    const traffic = desired.traffic ?? [];
    validateTraffic(traffic, id);
    this.revisions.set(revision, canonical);
    if (existing === undefined) this.templates.set(revision, structuredClone(template));
    if (existing === undefined) this.host?.start(id, revision, template);
    // Every writable field is the caller's desired state, replaced as sent:
    // an update without a mask replaces the service (cloud-run-fake-service-rules.ts).
    // `traffic` among them is never rewritten by reconciliation, whether it
    // succeeds or fails (proto, `traffic` is OPTIONAL input; `traffic_statuses`
    // is the output).
    clearWritableFields(service);
    Object.assign(service, writableFields(desired));
    // proto, `generation`: "monotonically increases every time the user
    // modifies the desired state"; latest_created_revision is the revision
    // the template names, at once; reconciliation starts (`reconciling`).
    // Revision fields are resource references (run.googleapis.com/Revision),
    // so full names.
    service.latestCreatedRevision = `${this.serviceName(id)}/revisions/${revision}`;
    service.generation = String(Number(service.generation ?? '0') + 1);
    service.reconciling = true;
    service.etag = this.etag();
  }

  /** Reconciliation ends when the operation is next observed; a newer write supersedes it. */
  private reconcileLater(service: ServiceWire, id: string): AcceptedWrite {
    const generation = service.generation;
    return {
      service: service.name ?? '',
      finish: () => {
        if (service.generation !== generation) return { response: this.pack('Service', service) };
        return this.reconcile(service, id);
      },
    };
  }

  private reconcile(service: ServiceWire, id: string): OperationOutcome | undefined {
    if (this.waitingForHost(service, id)) return undefined;
    service.reconciling = false;
    const failure = reconcileFailure(service, this.revisions, this.failing);
    if (failure !== undefined) {
      // proto, `reconciling`: "If reconciliation failed, `traffic_statuses`,
      // `observed_generation`, and `latest_ready_revision` will have the state
      // of the last serving revision, or empty for newly created Services.
      // Additional information on the failure can be found in
      // `terminal_condition` and `conditions`." So they are left as they are;
      // `traffic` keeps the failed revision (see apply).
      // Condition types are Knative's (condition.proto `type` points to
      // knative/serving docs/spec/errors.md; knative/serving
      // pkg/apis/serving/v1/service_types.go: Ready, ConfigurationsReady,
      // RoutesReady).
      const failed = { state: 'CONDITION_FAILED', severity: 'ERROR', message: failure.message };
      service.terminalCondition = { type: 'Ready', ...failed };
      service.conditions = [{ type: failure.condition, ...failed }];
      this.routeOnHost(service, id);
      // The operation fails too: Terraform's v2 provider shows a failed
      // create as "Error waiting for Creating Service: Error code 9, message:
      // Revision '…' is not ready and cannot serve traffic. The user-provided
      // container failed to start …" (transparency-dev/tesseract#413; code 13
      // is also seen, GoogleCloudPlatform/cymbal-superstore#6), and a missing
      // revision as code 13 (see failure()).
      return { error: { code: failure.code, message: failure.message } };
    }
    // proto, `reconciling`: "If reconciliation succeeded, the following
    // fields will match: `traffic` and `traffic_statuses`,
    // `observed_generation` and `generation`, `latest_ready_revision` and
    // `latest_created_revision`." Empty traffic is 100% to the latest ready
    // revision (proto, `traffic`). Tagged targets get
    // https://TAG---SERVICE-HASH-REGION.a.run.app (gcp-facts §D, URL forms).
    const traffic = service.traffic ?? [];
    const urls = this.host?.urls(id, traffic.map((t) => t.tag ?? '').filter(Boolean));
    const effective: TrafficTargetWire[] = traffic.length
      ? traffic
      : [{ type: LATEST, percent: 100 }];
    service.latestReadyRevision = service.latestCreatedRevision;
    service.observedGeneration = service.generation;
    service.trafficStatuses = effective.map((t) => ({
      type: t.type,
      revision: t.type === LATEST ? '' : t.revision,
      percent: t.percent ?? 0,
      tag: t.tag ?? '',
      uri: t.tag ? (urls?.tags[t.tag] ?? `https://${t.tag}---${id}-${FAKE_URL_SUFFIX}`) : '',
    }));
    service.uri = urls?.service ?? `https://${id}-${FAKE_URL_SUFFIX}`;
    if (urls) service.urls = [urls.service];
    service.terminalCondition = { type: 'Ready', state: 'CONDITION_SUCCEEDED' };
    service.conditions = [];
    this.routeOnHost(service, id);
    return { response: this.pack('Service', service) };
  }

  /**
   * With a revision host, a reconciliation waits (the operation stays
   * pending, `reconciling` true) while a revision it needs is starting or the
   * URLs are not set up; a revision whose container failed fails it as
   * failRevision does.
   */
  private waitingForHost(service: ServiceWire, id: string): boolean {
    if (!this.host) return false;
    const traffic = service.traffic ?? [];
    const needed = [shortRevisionName(service.latestCreatedRevision ?? '')];
    for (const t of traffic) if (t.revision) needed.push(t.revision);
    let starting = false;
    for (const revision of needed) {
      if (!this.revisions.has(revision)) continue;
      const state = this.host.state(revision);
      if (state === 'starting') starting = true;
      else if (state !== 'ready') this.failing.set(revision, state.failed);
    }
    const tags = traffic.map((t) => t.tag).filter((t): t is string => !!t);
    return this.host.urls(id, tags) === undefined || starting;
  }

  private routeOnHost(service: ServiceWire, id: string): void {
    this.host?.route(id, {
      latestReadyRevision: shortRevisionName(service.latestReadyRevision ?? ''),
      invokerIamDisabled: service.invokerIamDisabled ?? false,
      trafficStatuses: structuredClone(service.trafficStatuses ?? []),
      customAudiences: (service.customAudiences as string[] | undefined) ?? [],
    });
  }

  private etag(): string {
    return `"etag-${this.next()}"`;
  }
}
