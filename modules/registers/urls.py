from django.urls import path

from modules.registers import payment_views, views

app_name = "registers"

urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/<int:pk>/fixtures.pdf", views.room_fixtures_pdf, name="room_fixtures"),
    path("buildings/<int:pk>/fixtures.pdf", views.building_fixtures_pdf,
         name="building_fixtures"),
    path("consumables/", views.consumables_page, name="consumables"),
    path("summary/<int:year>.<str:fmt>", views.year_end_summary_file, name="year_end_summary"),
    path("counts/", views.count_list, name="count_list"),
    path("counts/<int:pk>/", views.count_scan, name="count_scan"),
    path("counts/<int:pk>/differences/", views.count_differences, name="count_differences"),
    path("counts/<int:pk>/report.<str:fmt>", views.count_report_file, name="count_report"),
    path("lines/", payment_views.lines_page, name="lines"),
    path("report/", payment_views.report_index, name="report_index"),
    path("report/<int:year>/", payment_views.report_page, name="report"),
    path("report/<int:year>.<str:fmt>", payment_views.report_file, name="report_file"),
]
