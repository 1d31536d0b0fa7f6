/**
 * The request, answer and error schemas of the standard protocols mlpipe serves, for its OpenAPI
 * document: the Open Inference Protocol V2 (from the protocol's own OpenAPI file,
 * open_inference_rest.yaml, with its `title`s and `x-examples` left out and its references renamed to
 * this document's `V2…` components) and the MLflow scoring server's bodies.
 */
import type { JsonSchema } from '../features/input-schema.js';
import { ref } from './model-schemas.js';

const parameters: JsonSchema = { type: 'object', description: 'free-form parameters' };

const tensorData: JsonSchema = {
  type: 'array',
  description: 'the tensor\u2019s elements in row-major order, flat or nested',
  items: { anyOf: [ref('V2TensorData'), { type: 'number' }, { type: 'string' }, { type: 'boolean' }, { type: 'object', description: 'a JSON record (BYTES tensor of records)' }] },
};

const tensorMetadata: JsonSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string', description: 'BOOL, INT64, FP64, BYTES, …' }, shape: { type: 'array', items: { type: 'integer' }, description: '-1 for a dimension of any size' } },
  required: ['name', 'datatype', 'shape'],
};

/** Open Inference Protocol V2 schemas, named `V2…`. */
export const V2_SCHEMAS: Record<string, JsonSchema> = {
  V2Error: { type: 'object', description: 'the protocol\u2019s error body', properties: { error: { type: 'string' } }, required: ['error'] },
  V2Parameters: parameters,
  V2TensorData: tensorData,
  V2MetadataServerResponse: {
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'version', 'extensions'],
  },
  V2MetadataTensor: tensorMetadata,
  V2MetadataModelResponse: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('V2MetadataTensor'), description: 'one tensor per input column' },
      outputs: { type: 'array', items: ref('V2MetadataTensor') },
      properties: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['name', 'platform'],
  },
  V2RequestInput: {
    type: 'object',
    properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { type: 'string' }, parameters: ref('V2Parameters'), data: ref('V2TensorData') },
    required: ['name', 'shape', 'datatype', 'data'],
  },
  V2RequestOutput: { type: 'object', properties: { name: { type: 'string' }, parameters: ref('V2Parameters') }, required: ['name'] },
  V2InferenceRequest: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      parameters: ref('V2Parameters'),
      inputs: { type: 'array', items: ref('V2RequestInput'), description: 'one tensor per column (name = column), or one BYTES tensor of JSON records' },
      outputs: { type: 'array', items: ref('V2RequestOutput'), description: 'the outputs wanted (default: all)' },
    },
    required: ['inputs'],
  },
  V2ResponseOutput: {
    type: 'object',
    properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { type: 'string' }, parameters: ref('V2Parameters'), data: ref('V2TensorData') },
    required: ['name', 'shape', 'datatype', 'data'],
  },
  V2InferenceResponse: {
    type: 'object',
    properties: { model_name: { type: 'string' }, model_version: { type: 'string' }, id: { type: 'string' }, parameters: ref('V2Parameters'), outputs: { type: 'array', items: ref('V2ResponseOutput') } },
    required: ['model_name', 'outputs'],
  },
};

/** MLflow scoring server schemas, named `Mlflow…`. */
export const MLFLOW_SCHEMAS: Record<string, JsonSchema> = {
  MlflowError: {
    type: 'object',
    description: 'MLflow\u2019s error body',
    properties: { error_code: { type: 'string', description: 'BAD_REQUEST, INVALID_PARAMETER_VALUE, …' }, message: { type: 'string' }, stack_trace: { type: 'string' } },
    required: ['error_code', 'message'],
  },
  MlflowParams: {
    type: 'object',
    description: 'MLflow\u2019s inference parameters; mlpipe reads `predict_proba`',
    properties: { predict_proba: { type: 'boolean', description: 'classifiers: answer the class probabilities instead of the labels' } },
  },
  MlflowDataframeSplit: {
    type: 'object',
    description: 'pandas\u2019 "split" orientation: column names, then rows of values in that order',
    properties: { columns: { type: 'array', items: { type: 'string' } }, data: { type: 'array', items: { type: 'array' } }, index: { type: 'array' } },
    required: ['columns', 'data'],
  },
};
