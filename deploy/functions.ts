/**
 * Every function's deploy descriptor: the chain's steps in chain order, then
 * the reconciler. The descriptors live beside their handlers; this list is
 * what the Cloud Build generator and the deploy tests read.
 */
import { deployment as deploy } from '../functions/deploy/src/deployment.js';
import { deployment as reconcile } from '../functions/reconcile/src/deployment.js';
import { deployment as register } from '../functions/register/src/deployment.js';
import { deployment as verify } from '../functions/verify/src/deployment.js';
import type { FunctionDeployment } from './function-deployment.js';

export const FUNCTION_DEPLOYMENTS: readonly FunctionDeployment[] = [
  register,
  deploy,
  verify,
  reconcile,
];
