// The kinds of layer the engine has. A layer names its kind with a string literal (`kind` on every
// Layer class), never with its class name: bundlers minify class names (the browser demo's build turns
// `class Linear` into `var vi = class`), and the precision policy picks each layer's quantization points
// by kind (engine/quant/policy.ts; docs/method.md section 5.2).
//
// A new layer class: add its kind here, declare it on the class (`override readonly kind = 'X'`), and
// classify it in engine/quant/policy.ts, whose table the compiler checks for every kind listed here.

export const LAYER_KINDS = [
  'Linear',
  'Conv2d',
  'ConvTranspose2d',
  'Embedding',
  'BatchNorm1d',
  'BatchNorm2d',
  'InstanceNorm2d',
  'ReLU',
  'LeakyReLU',
  'Tanh',
  'Sigmoid',
  'Dropout',
  'MaxPool2d',
  'AvgPool2d',
  'ReflectionPad2d',
  'Upsample',
  'PixelShuffle',
  'Flatten',
  'Sequential',
  'Residual',
  'DenseBlock',
] as const;

export type LayerKind = (typeof LAYER_KINDS)[number];
