// Public interface of @veil/dataset-metadata.
export {};
