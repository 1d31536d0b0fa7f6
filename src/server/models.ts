import type { Predictor } from '../core/predictor/predictor.js';

/**
 * The models a server serves, by name, and whether it is ready. The first model added is the
 * default one (`POST /predict`). `ready` is false until loading is done and again while draining.
 *
 * A name's model can be replaced while serving ({@link replace}): a request takes its model once
 * (`get`) and keeps it to the end, so requests in flight finish on the version they started with.
 */
export class ServedModels {
  private readonly models = new Map<string, Predictor>();
  private defaultName: string | undefined;
  ready = false;

  /** Adds a loaded model; a second model with the same name replaces none and is refused. */
  add(model: Predictor): void {
    if (this.models.has(model.name)) throw new Error(`two bundles named "${model.name}" given; serve one version per name`);
    this.models.set(model.name, model);
    this.defaultName ??= model.name;
  }

  /** Serves `model` in place of the model of the same name, from the next request on; returns the one it replaced. */
  replace(model: Predictor): Predictor | undefined {
    const before = this.models.get(model.name);
    if (!before) throw new Error(`no model named "${model.name}" is served: add it first`);
    this.models.set(model.name, model);
    return before;
  }

  get(name: string): Predictor | undefined {
    return this.models.get(name);
  }

  /** The default model: the first one added. */
  get default(): Predictor | undefined {
    return this.defaultName === undefined ? undefined : this.models.get(this.defaultName);
  }

  list(): Predictor[] {
    return [...this.models.values()];
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  get size(): number {
    return this.models.size;
  }
}
