// Public interface of @veil/dataset-adapters.
export {};
