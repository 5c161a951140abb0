// Public interface of @veil/synthesizer.
export {};
