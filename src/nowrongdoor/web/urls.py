from django.urls import path

from nowrongdoor.web import (
    case_views,
    data_views,
    identity_views,
    import_views,
    placement_views,
    screening_views,
    task_views,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("youth/", views.youth_search, name="youth_search"),
    path("youth/emergency/", views.emergency_access, name="emergency_access"),
    path("youth/<uuid:youth_id>/", views.youth_detail, name="youth_detail"),
    path("youth/<uuid:youth_id>/screen/", screening_views.start, name="screening_start"),
    path("screenings/<uuid:screening_id>/", screening_views.step, name="screening_step"),
    path("screenings/<uuid:screening_id>/result/", screening_views.result, name="screening_result"),
    path("screenings/<uuid:screening_id>/correct/", screening_views.correct, name="screening_correct"),
    path("cases/", case_views.caseload, name="caseload"),
    path("cases/review/", case_views.case_review, name="case_review"),
    path("cases/<uuid:case_id>/", case_views.case_detail, name="case_detail"),
    path("youth/<uuid:youth_id>/cases/open/", case_views.open_case, name="open_case"),
    path("placements/", placement_views.board, name="placements"),
    path("placements/resources/", placement_views.resources, name="placement_resources"),
    path("placements/searches/<uuid:run_id>/", placement_views.match_result, name="placement_match"),
    path("youth/<uuid:youth_id>/placements/", placement_views.youth_placements, name="youth_placements"),
    path("work/", task_views.my_work, name="my_work"),
    path("work/agency/", task_views.agency_board, name="agency_board"),
    path("tasks/<uuid:task_id>/", task_views.task_detail, name="task_detail"),
    path("notifications/<int:notification_id>/read/", task_views.read_notification, name="read_notification"),
    path("audit/", views.audit_log, name="audit_log"),
    path("imports/", import_views.imports, name="imports"),
    path("data/", data_views.dashboard, name="data"),
    path("data/export/<slug:measure_id>.<str:fmt>", data_views.export, name="data_export"),
    path("identity/", identity_views.queue, name="identity_queue"),
    path("identity/runs/<int:run_id>/", identity_views.linkage_run, name="identity_run"),
    path("identity/pairs/<int:review_id>/", identity_views.pair, name="identity_pair"),
    path("identity/changes/", identity_views.changes, name="identity_changes"),
    path("reviews/", views.break_glass_reviews, name="break_glass_reviews"),
    path("reviews/<int:grant_id>/", views.review_break_glass, name="review_break_glass"),
]
