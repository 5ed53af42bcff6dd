// msgpackr loads its optional native decoder inside try/catch and falls back to JavaScript when it fails.
throw new Error('msgpackr-extract is not installed in this project (see package.json)');
