// Public interface of @veil/mechanisms.
export {};
