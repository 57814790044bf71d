import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const UI_ROOT = path.join(REPO_ROOT, 'kiosk-ui');
export const SCREENS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'screens');
