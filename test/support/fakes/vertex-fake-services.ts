/**
 * The Vertex AI gRPC service definitions the fake serves, loaded from the
 * protos `@google-cloud/aiplatform` ships (reference/grpc-fakes.md).
 */
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { loadGrpcPackage, protobufRoot, serviceDefinition } from './grpc-fake-server.js';

const AIPLATFORM = '@google-cloud/aiplatform';
const MODEL_SERVICE_PROTO = 'google/cloud/aiplatform/v1/model_service.proto';
const PIPELINE_SERVICE_PROTO = 'google/cloud/aiplatform/v1/pipeline_service.proto';

/** The RPCs the fake answers (failures are injected per method). */
export type FakeMethod =
  | 'UploadModel'
  | 'ListModels'
  | 'ListModelVersions'
  | 'GetModel'
  | 'MergeVersionAliases'
  | 'GetOperation'
  | 'GetPipelineJob';

export interface InjectedFailure {
  readonly code: grpc.status;
  readonly details: string;
  /** Perform the call's effect (store the upload) before answering with the error. */
  readonly afterEffect: boolean;
}

/** A request naming one resource (GetModel, GetOperation, GetPipelineJob). */
export interface NameRequestWire {
  name: string;
}

export interface VertexServices {
  readonly model: grpc.ServiceDefinition;
  readonly operations: grpc.ServiceDefinition;
  readonly pipeline: grpc.ServiceDefinition;
  /** For packing LRO results into `Any`. */
  readonly root: protobuf.Root;
}

let services: VertexServices | undefined;

/** Loading the Vertex protos takes a while: once per test process. */
export function loadVertexServices(): VertexServices {
  if (services !== undefined) return services;
  const modelPackage = loadGrpcPackage(AIPLATFORM, MODEL_SERVICE_PROTO);
  const pipelinePackage = loadGrpcPackage(AIPLATFORM, PIPELINE_SERVICE_PROTO);
  services = {
    model: serviceDefinition(modelPackage, 'google.cloud.aiplatform.v1.ModelService'),
    operations: serviceDefinition(modelPackage, 'google.longrunning.Operations'),
    pipeline: serviceDefinition(pipelinePackage, 'google.cloud.aiplatform.v1.PipelineService'),
    root: protobufRoot(AIPLATFORM, [MODEL_SERVICE_PROTO]),
  };
  return services;
}
