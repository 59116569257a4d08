import type { RequestHandler } from 'express';
import { findUnacceptable } from '../unacceptable-input.ts';
import { HttpProblem } from './problem.ts';

/** 415 for a write whose body is not JSON: express.json would leave it unread and the route would see no body. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json'))
    return next(new HttpProblem(415, 'UnsupportedMediaType', 'send the body as application/json'));
  next();
};

/** 400 naming the field for a NUL character anywhere in the path, query or body, or a body nested too deep. */
export const refuseUnacceptableInput: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.path))
    return next(
      new HttpProblem(400, 'ValidationError', 'the path holds a NUL character', {
        errors: [{ field: 'path', message: 'NUL characters are not allowed' }],
      }),
    );
  const found = findUnacceptable({ query: req.query, body: req.body });
  if (found)
    return next(
      new HttpProblem(400, 'ValidationError', `${found.field}: ${found.problem}`, {
        errors: [{ field: found.field, message: found.problem }],
      }),
    );
  next();
};
