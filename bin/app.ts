#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addMetricsStack } from '../lib/app';

addMetricsStack(new App());
