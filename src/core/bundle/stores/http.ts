import { ConfigError } from '../../errors.js';
import type { BundleStore } from './types.js';

/** In progress (issue 12): replaced by the real store in the next commits. */
export class HttpStore {
  static fromLocation(location: string): BundleStore {
    throw new ConfigError(`${location}: this store kind is being built`);
  }
}
