/**
 * quantlab's audio toolkit: real speech from Debian (`corpus.ts`, with
 * `corpus_packages.ts` and `corpus_fetch.ts`; `./quantlab data`), WAV I/O
 * (`wav.ts`), resampling (`resample.ts`), differentiable STFT and spectral losses on the wasm
 * backend (`stft.ts`), metrics (`metrics.ts`), training segments (`segments.ts`),
 * spectra and pictures (`spectrum.ts`, `png.ts`) and players for notebooks and reports
 * (`display.ts`).
 *
 * @module
 */
export * from "./corpus.ts";
export * from "./corpus_fetch.ts";
export * from "./corpus_packages.ts";
export * from "./display.ts";
export * from "./metrics.ts";
export * from "./png.ts";
export * from "./resample.ts";
export * from "./segments.ts";
export * from "./spectrum.ts";
export * from "./stft.ts";
export * from "./wav.ts";
