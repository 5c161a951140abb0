// Public interface of @veil/masking.
export {};
