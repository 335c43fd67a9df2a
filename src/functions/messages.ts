// The messages function: its definition lives in the route table (src/lib/routes.ts), shared with the local host.
import azureFunctions from '@azure/functions';
import { ROUTES } from '../lib/routes.js';

const { app } = azureFunctions;
const { name, ...options } = ROUTES.messages;

app.http(name, options);
