// The local managed identity and Entra tenant (endpoint.ts) and a client of it for the local service (client.ts).
export * from './client.js';
export * from './endpoint.js';
