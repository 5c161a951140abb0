// Public interface of @veil/admin-store.
export {};
