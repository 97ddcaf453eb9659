// h5wasm's Node entry has the same API as its browser entry; TypeScript's "node" module
// resolution does not read package.json "exports", so name the subpath here.
declare module 'h5wasm/node' {
  export * from 'h5wasm';
}
