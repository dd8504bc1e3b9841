// The names of the translation tasks (translation.ts loads them), with no imports: configuration
// and the browser-safe trainer refer to them without reading any data.

export const TRANSLATION_TASKS = ['thin2bold', 'bold2thin', 'digit2fashion', 'fashion2digit'] as const;
export type TranslationTask = (typeof TRANSLATION_TASKS)[number];

export const TASK_DESCRIPTIONS: Readonly<Record<TranslationTask, string>> = {
  thin2bold: 'MNIST digits, thinnest third of strokes (A) to boldest third (B)',
  bold2thin: 'MNIST digits, boldest third of strokes (A) to thinnest third (B)',
  digit2fashion: 'MNIST digits (A) to Fashion-MNIST clothes (B)',
  fashion2digit: 'Fashion-MNIST clothes (A) to MNIST digits (B)',
};
