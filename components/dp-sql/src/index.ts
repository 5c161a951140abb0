// Public interface of @veil/dp-sql.
export {};
