import { Injectable, type NestMiddleware } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { ValidationError } from '../../kernel/errors/domain-error';
import { MAX_IMPORT_BYTES } from '../curation.service';

const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_IMPORT_BYTES, files: 1, fields: 10, fieldSize: 10_000 } }).single('file');

/**
 * Parses the subscribers' CSV upload (multipart/form-data, one `file`) BEFORE the guard runs, so the form's `_csrf`
 * field is in `req.body` when the guard checks it. Only callers that present a credential get their upload read:
 * anonymous posts go straight on to the guard's 401.
 */
@Injectable()
export class CsvUploadMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    if (!req.is('multipart/form-data') || (!req.get('authorization') && !/(?:^|;\s*)bs_session=/.test(req.get('cookie') ?? ''))) return next();
    upload(req, res, (error: unknown) => {
      if (!error) return next();
      const message =
        error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE'
          ? `the file is over ${MAX_IMPORT_BYTES / 1024 / 1024} MB`
          : `the upload could not be read: ${(error as Error).message}`;
      next(new ValidationError(`The import failed: ${message}.`, [{ field: 'file', message }]));
    });
  }
}
