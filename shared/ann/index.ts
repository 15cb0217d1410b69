/**
 * @recdeploy/shared/ann: model bundles, query encoding and retrieval (exact and
 * HNSW). A separate entry point so deployables that do not serve or index
 * models never load TensorFlow.js or hnswlib.
 */
export * from './types.js';
export * from './search/exact-searcher.js';
export * from './search/build-index.js';
export * from './search/hnsw-index.js';
export * from './search/hnsw-searcher.js';
export * from './search/parallel-hnsw-searcher.js';
export * from './search/index-files.js';
export * from './search/calibration.js';
export * from './search/query-sampler.js';
export * from './search/checksum.js';
export * from './bundle/manifest.js';
export * from './bundle/bundle-reader.js';
export * from './bundle/bundle-writer.js';
export * from './bundle/bundle-fingerprint.js';
export * from './bundle/preprocessing.js';
export { ANN_DIR, BUNDLE_FILES, locateAnnDir } from './bundle/bundle-files.js';
export { fingerprint64 } from './bundle/fingerprint64.js';
export { VocabularyLookup } from './bundle/vocabulary-lookup.js';
export { formatVocabulary, parseVocabulary } from './bundle/vocabulary-file.js';
export * from './encoder/tf-backend.js';
export * from './encoder/query-encoder.js';
export { fileSaveHandler, readModelArtifacts } from './encoder/model-files.js';
export { L2_NORMALIZE_CLASS, registerL2Normalize } from './encoder/l2-normalize-layer.js';
export * from './sample/sample-model.js';
export { tftMeanAndStd, tftVocabulary } from './sample/tft-analyzers.js';
export { extendCandidates, SYNTHESIS_METHOD } from './sample/synthetic-catalogue.js';
export { generateSampleData, type SampleData } from './sample/sample-data.js';
export { SeededRandom } from './sample/random.js';
export * from './bundle/sample-instances.js';
export * from './bundle/replay-sample.js';
export * from './calibration-queries.js';
