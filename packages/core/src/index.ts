import 'reflect-metadata';
export * from './transport/spi';
export * from './transport/registry';
export * from './errors/errors';
