// The home function: its definition lives in the route table (src/lib/routes.ts), shared with the local host.
import azureFunctions from '@azure/functions';
import { ROUTES } from '../lib/routes.js';

const { app } = azureFunctions;
const { name, ...options } = ROUTES.home;

app.http(name, options);
