// The build-time MNIST subset (demos/build/mnist-asset.ts).
declare module 'virtual:mnist-subset' {
  interface PackedFile {
    /** Relative to the page. */
    path: string;
    /** gzip-compressed size, as served. */
    bytes: number;
    /** Size of the IDX file inside. */
    rawBytes: number;
  }
  const subset: { count: number; source: string; images: PackedFile; labels: PackedFile };
  export default subset;
}
