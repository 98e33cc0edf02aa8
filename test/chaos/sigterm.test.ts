/** The fault table's SIGTERM rows (short form): each service stopped under load, then started again. */
import { describeChaosRows } from './chaos-rows.js';

describeChaosRows('sigterm', 'chaos: each service stopped (SIGTERM) under load');
