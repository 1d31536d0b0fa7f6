import { randomUUID } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Prediction, Predictor } from '../../core/predictor/predictor.js';
import { mlpipeVersion } from '../../core/version.js';
import type { ServerContext } from '../context.js';
import { type ErrorFormat, HttpError, useErrorFormat } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { modelFor, requireReady } from '../predict.js';
import { allowOnly } from './allow.js';
import { type LabelKind, badInput, inputColumns, labelKind, predictAt, protocolMessage } from './protocol-common.js';
import { columnDatatype, decode, readRequest } from './v2-inputs.js';

/**
 * The Open Inference Protocol (KServe V2, Triton, MLServer) over REST: health, server and model
 * metadata, model readiness and `POST /v2/models/{name}[/versions/{v}]/infer`.
 *
 * Inputs: one tensor per input column (name = column, shape `[N]` or `[N, 1]`, data flat or nested),
 * or one BYTES tensor (any name that is not a column) whose elements are JSON records, or one numeric
 * tensor of shape `[N, F]` (any other name) whose rows hold the F input columns in the model's order.
 * Outputs (MLServer's scikit-learn names): `predict` (the label in the target's own values, or the
 * number), and for classifiers `predict_proba` (FP64 `[N, K]`, classes in the order of the metadata's
 * `proba_<label>` outputs) and one `proba_<label>` FP64 `[N]` per class. Without `outputs` in the
 * request, `predict` and (classifiers) `predict_proba` are answered.
 *
 * Errors answer `{"error": "<message>"}` (the protocol's form) with mlpipe's statuses; a problem in a
 * value is named by the JSON Pointer of the element that holds it (`/inputs/2/data/7`). How inputs
 * are read: v2-inputs.ts.
 */

/** The protocol's error body: `{"error": "<message>"}`. */
export const V2_ERROR_FORMAT: ErrorFormat = (answer) => ({ error: protocolMessage(answer) });

const LABEL_DATATYPE: Record<LabelKind, string> = { string: 'BYTES', integer: 'INT64', number: 'FP64', boolean: 'BOOL' };

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

/** The output tensors of `model`, in the order metadata lists them. */
function outputsOf(model: Predictor): TensorMeta[] {
  const out: TensorMeta[] = [{ name: 'predict', datatype: LABEL_DATATYPE[labelKind(model)], shape: [-1] }];
  if (model.forest.task === 'classification') {
    const k = model.forest.classes.length;
    out.push({ name: 'predict_proba', datatype: 'FP64', shape: [-1, k] });
    for (const c of model.forest.classes) out.push({ name: `proba_${c}`, datatype: 'FP64', shape: [-1] });
  }
  return out;
}

function metadata(model: Predictor) {
  return {
    name: model.name,
    versions: [model.version],
    platform: 'mlpipe',
    inputs: inputColumns(model).map((c) => ({ name: c.name, datatype: columnDatatype(c), shape: [-1] })),
    outputs: outputsOf(model),
  };
}

function outputTensor(model: Predictor, name: string, predictions: readonly Prediction[]) {
  const n = predictions.length;
  const classes = model.forest.classes;
  if (name === 'predict') {
    return { name, datatype: LABEL_DATATYPE[labelKind(model)], shape: [n], data: predictions.map((p) => p.prediction) };
  }
  if (name === 'predict_proba') {
    const data: number[] = [];
    for (const p of predictions) for (const c of classes) data.push(p.probabilities?.[c] ?? 0);
    return { name, datatype: 'FP64', shape: [n, classes.length], data };
  }
  const c = name.slice('proba_'.length);
  return { name, datatype: 'FP64', shape: [n], data: predictions.map((p) => p.probabilities?.[c] ?? 0) };
}

/**
 * The Open Inference Protocol routes (see the top of this file). Mounted by createApp; errors on
 * `/v2` paths, including those of the throttles and body reader in front of the handlers, answer in
 * the protocol's form.
 */
export function v2Routes(ctx: ServerContext): Router {
  const router = Router();
  const opts = ctx.options;
  router.use('/v2', useErrorFormat(V2_ERROR_FORMAT));

  /** The model a path names, checked against its `/versions/{v}` when given. */
  const pathModel = (req: Request): Predictor => {
    const model = modelFor(ctx, req.params.name as string);
    const version = req.params.version as string | undefined;
    if (version !== undefined && version !== model.version) {
      throw new HttpError(404, 'not_found', `model "${model.name}" has no version "${version}" served (serving ${model.version})`);
    }
    return model;
  };
  const maxFields = (req: Request): number => opts.maxFields ?? Math.max(1000, 10 * pathModel(req).transformer.pipeline.inputs.length);

  router.get(['/v2', '/v2/'], (_req, res) => {
    res.json({ name: 'mlpipe', version: mlpipeVersion(), extensions: [] });
  });
  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    if (!ctx.models.ready) notReady(res);
    res.json({ ready: ctx.models.ready });
  });
  const model = '/v2/models/:name{/versions/:version}';
  router.get(model, (req, res) => {
    res.json(metadata(pathModel(req)));
  });
  router.get(`${model}/ready`, (req, res) => {
    const m = pathModel(req);
    if (!ctx.models.ready) notReady(res);
    res.json({ name: m.name, ready: ctx.models.ready });
  });

  // tritonclient sends its JSON without a Content-Type; its binary tensor extension is not JSON at all.
  const protocolBody: RequestHandler = (req, _res, next) => {
    if (req.headers['inference-header-content-length'] !== undefined) {
      throw new HttpError(400, 'invalid_input', 'the binary tensor data extension is not supported: send the tensors as JSON (tritonclient: binary_data=False on every input and output)');
    }
    if (req.headers['content-type'] === undefined) req.headers['content-type'] = 'application/json';
    next();
  };
  const inferGuard: RequestHandler[] = [
    ...ctx.limits.batch,
    requireReady(ctx),
    protocolBody,
    ...jsonBody({ limit: opts.bodyLimit, maxFields, expected: 'an inference request {"inputs": [ … ]} as JSON' }),
  ];
  router.post(`${model}/infer`, ...inferGuard, async (req: Request, res: Response) => {
    const m = pathModel(req);
    const request = readRequest(req.body);
    const known = outputsOf(m).map((o) => o.name);
    for (const o of request.outputs ?? []) {
      if (!known.includes(o.name)) throw badInput(`/outputs/${o.index}/name`, `"${o.name}" is not an output of ${m.ref} (its outputs: ${known.join(', ')})`);
    }
    const { records, where } = decode(ctx, m, request.tensors, maxFields(req));
    const predictions = await predictAt(ctx, req, res, m, records, where);
    const names = request.outputs?.map((o) => o.name) ?? (m.forest.task === 'classification' ? ['predict', 'predict_proba'] : ['predict']);
    res.json({
      model_name: m.name,
      model_version: m.version,
      id: request.id ?? randomUUID(),
      outputs: names.map((name) => outputTensor(m, name, predictions)),
    });
  });

  allowOnly(router, 'GET, HEAD', ['/v2', '/v2/', '/v2/health/live', '/v2/health/ready', model, `${model}/ready`]);
  allowOnly(router, 'POST', [`${model}/infer`]);
  return router;
}

/** Readiness probes answer 503 (with Retry-After) while the models load or the server drains. */
function notReady(res: Response): void {
  res.status(503).setHeader('Retry-After', '5');
  res.locals.errorCode = 'not_ready';
}
