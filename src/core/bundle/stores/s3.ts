import { ConfigError } from '../../errors.js';
import type { BundleStore } from './types.js';

/** In progress (issue 12): replaced by the real store in the next commits. */
export class S3Store {
  static fromLocation(location: string): BundleStore {
    throw new ConfigError(`${location}: this store kind is being built`);
  }
}
