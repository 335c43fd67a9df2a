// The messages function: its definition lives in the route table (src/app/routes.ts), shared with the local host.
import azureFunctions from '@azure/functions';
import { ROUTES } from '../app/routes.js';

const { app } = azureFunctions;
const { name, ...options } = ROUTES.messages;

app.http(name, options);
