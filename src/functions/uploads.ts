// The uploads function: its definition lives in the route table (src/app/routes.ts), shared with the local host.
import { register } from '../app/register.js';
import { ROUTES } from '../app/routes.js';

register(ROUTES.uploads);
