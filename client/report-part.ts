/**
 * widget-report.js: the form a reader reports a comment with, loaded the first time a reader presses
 * Report (client/parts.ts); most readers never download it.
 */
import { registerPart } from './part-registry.ts';
import { ReportPanel } from './report/report-panel.ts';

registerPart('report', { ReportPanel });
