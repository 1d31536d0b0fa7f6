import type { RequestHandler } from 'express';
import type { FollowState } from './follow.js';
import type { ServedModels } from './models.js';
import type { AppOptions } from './options.js';
import type { Telemetry } from './telemetry.js';

/** The throttles in front of predict routes (see limits.ts). */
export interface Limits {
  /** Handlers in front of a single-record route, before its body is read. */
  single: RequestHandler[];
  /** Handlers in front of a batch route (many records in one request), before its body is read. */
  batch: RequestHandler[];
}

/** Which served names follow a reference that can move, and how that goes (follow.ts). */
export interface FollowStatus {
  state(name: string): FollowState | undefined;
}

/** What every router of the server is built from: one object, made once by {@link createApp}. */
export interface ServerContext {
  models: ServedModels;
  options: AppOptions;
  log: (message: string) => void;
  telemetry: Telemetry;
  limits: Limits;
  /** Present when the server follows references that can move (`name`, `name@production`). */
  follow?: FollowStatus;
}
