import type { LoadedModel } from './load.js';

/**
 * The models a server serves, by name, and whether it is ready. The first model added is the
 * default one (`POST /predict`). `ready` is false until loading is done and again while draining.
 */
export class ModelRegistry {
  private readonly models = new Map<string, LoadedModel>();
  private defaultName: string | undefined;
  ready = false;

  /** Adds a loaded model; a second model with the same name replaces none and is refused. */
  add(model: LoadedModel): void {
    if (this.models.has(model.name)) throw new Error(`two bundles named "${model.name}" given; serve one version per name`);
    this.models.set(model.name, model);
    this.defaultName ??= model.name;
  }

  get(name: string): LoadedModel | undefined {
    return this.models.get(name);
  }

  /** The default model: the first one added. */
  get default(): LoadedModel | undefined {
    return this.defaultName === undefined ? undefined : this.models.get(this.defaultName);
  }

  list(): LoadedModel[] {
    return [...this.models.values()];
  }

  get size(): number {
    return this.models.size;
  }
}
