/** `npm run openapi`: writes openapi.yaml from the code's schemas. */
import { writeFileSync } from 'node:fs';
import { openApiYaml } from './openapi-document.js';

writeFileSync(new URL('../openapi.yaml', import.meta.url), openApiYaml());
console.log('wrote openapi.yaml');
